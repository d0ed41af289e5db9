// Public API of the escalation engine: pure, deterministic, no I/O.
export * from './schemas.js';
export { EscalationEngine, EngineSnapshot, SNAPSHOT_VERSION, type LabelSource } from './engine.js';
export { Batcher, BatchItem, BatchReason, BatcherConfig, BatcherState, EscalationBatch, orderItems, type BatchItemInput } from './batcher.js';
export { evaluateRules, isCritical, isIrreversible, matchType, ruleMatches, type RuleEvaluation } from './rules.js';
export { binomialCdf, clopperPearson, cpLower, cpUpper, incompleteBeta, minZeroErrorSample } from './stats.js';
export { learnThenTest, pooledValidFor, BudgetThreshold, type CalibrationRecord } from './threshold.js';
export { bucket, contextTokens } from './features.js';
export { hashUniform, Prng } from './prng.js';
