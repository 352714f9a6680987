// @conifer/engine: Conifer's vector engine as a library. Namespaces of records (dense and sparse values,
// metadata), metadata filters with posting lists, a query planner choosing between exact scans and an
// HNSW graph (usearch), and every read and write of the data plane. No HTTP and no disk: the store
// (apps/vector-store) adds durability (log, snapshots, graph files) and renders wire shapes.
export { VectorIndex, DEFAULT_SEARCH_OPTIONS } from './vector-index.js';
export { NamespaceCatalog } from './namespace/catalog.js';
export { NamespaceStore, type FrozenNamespace, type SlotRecord, type VectorSegment } from './namespace/namespace-store.js';
export { UsearchAnn, DEFAULT_ANN_PARAMS, type AnnParams, type FileChecksum } from './ann/usearch-ann.js';
export {
  annBinding,
  hugePageAdvice,
  jsonFloat32ArrayScan,
  mallocHeap,
  selectAnnBinding,
  type AnnBinding,
  type AnnBindingKind,
  type CompiledIndex,
  type JsonFloat32ArrayScan,
  type MallocHeap,
} from './ann/usearch-binding.js';
export { UsearchGraphFile, type GraphBytes } from './ann/graph-file.js';
export { MIN_BREADTH_SCALE } from './types.js';
export { planQuery, annBreadth, annRerank, breadthExponent, plannedCandidates, type QueryPlan, type PlanInput } from './search/planner.js';
export {
  BreadthCalibrator,
  calibrateBreadth,
  calibrationDue,
  calibrationDueAt,
  calibrationHeldBackSlots,
  calibrationSample,
  calibrationSamples,
  unseenSample,
  hasUnseenSample,
  BREADTH_LADDER,
  CALIBRATION_K,
  type CalibrationResult,
  type BreadthEvaluation,
  type CalibrationSample,
} from './search/calibrate.js';
export { executePlan, type Execution } from './search/execute.js';
export { exactScan, type ExactScan } from './search/exact-scan.js';
export { TailPrescan } from './search/tail-prescan.js';
export { compile as compileEngineFilter, matchSet, matchingSlots, type CompiledFilter, type MatchSet } from './filter/matching.js';
export { MetadataIndex } from './filter/metadata-index.js';
export { TopK } from './top-k.js';
export { lowerBound, upperBound } from './sorted-bounds.js';
export { denseSimilarity, reportedScore, sparseDot, norm } from './scoring.js';
export type {
  BreadthCalibration,
  EngineMatch,
  EngineRecord,
  ExecutedPlan,
  FetchByMetadataInput,
  FetchResult,
  IndexSettings,
  ListInput,
  Metric,
  Mutation,
  NamespaceSummary,
  Page,
  PlacedRecord,
  PlanKind,
  QueryResult,
  SearchOptions,
  StatsResult,
  StoredRecordInput,
  VectorType,
} from './types.js';
export * from './text/index.js';
