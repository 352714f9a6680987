// Port between the admin API and the control plane: a forced project deletion removes the project's indexes
// (catalog rows and their data on the vector-store nodes). Implemented by the indexes module.
export abstract class ProjectIndexRemover {
  /** Deletes every index of the project, deletion protection notwithstanding; returns how many. */
  abstract removeAllIndexes(projectId: string): Promise<number>;
}
