// Drift: a risk-adjusted Bernoulli CUSUM on disagreement between the engine's choice and the person's answer.

export interface CusumState {
  statistic: number;
  /** Sequence number of the label where the current run above zero started (estimated change point). */
  runStart: number;
}

/**
 * Risk-adjusted CUSUM (Steiner et al., 2000): every labelled decision carries its own predicted error p0 = 1 − score,
 * and the test asks whether errors come with odds `oddsRatio` times higher than predicted. Escalations (high p0) and
 * audits (low p0) feed one statistic without either drowning the other. Increment: y·ln(R) − ln(1 − p0 + R·p0).
 */
export class RiskAdjustedCusum {
  constructor(private readonly state: CusumState) {}

  static initial(): CusumState {
    return { statistic: 0, runStart: 0 };
  }

  /** Adds one labelled decision; returns true on alarm. */
  observe(error: boolean, predictedError: number, seq: number, oddsRatio: number, threshold: number): boolean {
    const p0 = Math.min(Math.max(predictedError, 1e-3), 0.5);
    const inc = (error ? Math.log(oddsRatio) : 0) - Math.log(1 - p0 + oddsRatio * p0);
    if (this.state.statistic === 0 && inc > 0) this.state.runStart = seq;
    this.state.statistic = Math.max(0, this.state.statistic + inc);
    return this.state.statistic > threshold;
  }

  get statistic(): number {
    return this.state.statistic;
  }
}
