// A record's metadata as the data plane carries it (its own module so that the filter and the request types
// can both use it without importing each other).
export type MetadataValue = string | number | boolean | string[];
export type RecordMetadata = Record<string, MetadataValue>;
