// Online L2-regularised logistic regression trained by SGD, one labelled answer at a time.

export interface LogisticState {
  weights: number[];
  updates: number;
}

export class OnlineLogistic {
  readonly weights: Float64Array;
  updates: number;

  constructor(
    size: number,
    private readonly learningRate: number,
    private readonly l2: number,
    init?: LogisticState,
  ) {
    this.weights = new Float64Array(size);
    if (init) this.weights.set(init.weights.slice(0, size));
    this.updates = init?.updates ?? 0;
  }

  margin(x: Float64Array): number {
    let z = 0;
    const w = this.weights;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i] ?? 0;
      if (xi !== 0) z += (w[i] ?? 0) * xi;
    }
    return z;
  }

  predict(x: Float64Array): number {
    const z = this.margin(x);
    return 1 / (1 + Math.exp(-Math.max(Math.min(z, 30), -30)));
  }

  /** One SGD step on log-loss; importance weights scale the step, capped so one audit cannot swing the model. */
  update(x: Float64Array, y: 0 | 1, weight = 1): void {
    this.updates++;
    // Step decays like 1/sqrt(t) from the base rate so early answers move the model fast and later ones settle.
    const eta = this.learningRate * Math.max(0.2, 1 / Math.sqrt(1 + this.updates / 200));
    const step = Math.min(eta * weight, 0.5);
    const g = this.predict(x) - y;
    const w = this.weights;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i] ?? 0;
      const wi = w[i] ?? 0;
      w[i] = wi - step * (g * xi + this.l2 * wi);
    }
  }

  state(): LogisticState {
    return { weights: Array.from(this.weights), updates: this.updates };
  }
}
