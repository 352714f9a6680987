// Organization and projects: create, rename, delete (412 while a project has indexes or live keys; then the
// user may force it, which revokes its keys and deletes its indexes first, as the API does).
import { useState, type FormEvent } from 'react';
import { api, ApiError, unwrap, type Project } from '../api/client';
import { Confirm, Notice, useLoad, when } from '../components/common';

export function ProjectsScreen() {
  const organizations = useLoad(async () => unwrap(await api.GET('/admin/organizations')).data, []);
  const projects = useLoad(async () => unwrap(await api.GET('/admin/projects')).data, []);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [renaming, setRenaming] = useState<Project>();
  const [deleting, setDeleting] = useState<{ project: Project; force: boolean }>();
  const organization = organizations.data?.[0];

  const run = async (action: () => Promise<string>) => {
    setError(undefined);
    try {
      setNotice(await action());
      projects.reload();
      organizations.reload();
    } catch (err) {
      setError((err as Error).message);
      throw err;
    }
  };

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const name = String(new FormData(formElement).get('name')).trim();
    await run(async () => {
      unwrap(await api.POST('/admin/projects', { body: { name } }));
      formElement.reset();
      return `Project ${name} created.`;
    }).catch(() => undefined);
  };

  const rename = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get('name')).trim();
    if (!renaming) return;
    await run(async () => {
      unwrap(await api.PATCH('/admin/projects/{projectId}', { params: { path: { projectId: renaming.id } }, body: { name } }));
      setRenaming(undefined);
      return `Project renamed to ${name}.`;
    }).catch(() => undefined);
  };

  const renameOrganization = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!organization) return;
    const name = String(new FormData(event.currentTarget).get('name')).trim();
    await run(async () => {
      unwrap(await api.PATCH('/admin/organizations/{organizationId}', { params: { path: { organizationId: organization.id } }, body: { name } }));
      return `Organization renamed to ${name}.`;
    }).catch(() => undefined);
  };

  const remove = async () => {
    if (!deleting) return;
    const { project, force } = deleting;
    setDeleting(undefined);
    try {
      await run(async () => {
        unwrap(await api.DELETE('/admin/projects/{projectId}', { params: { path: { projectId: project.id }, query: force ? { force: true } : {} } }));
        return `Project ${project.name} deleted.`;
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) setDeleting({ project, force: true });
    }
  };

  return (
    <>
      <h1>Projects</h1>
      {organization && (
        <form className="row" onSubmit={(e) => void renameOrganization(e)} aria-label="Organization">
          <label>
            Organization name
            <input name="name" defaultValue={organization.name} key={organization.name} required />
          </label>
          <button type="submit" className="secondary">
            Rename organization
          </button>
        </form>
      )}
      {notice && <Notice>{notice}</Notice>}
      {(error ?? projects.error) && <Notice kind="error">{error ?? projects.error}</Notice>}
      <form className="row" onSubmit={(e) => void create(e)} aria-label="Create project">
        <label>
          New project name
          <input name="name" required maxLength={512} />
        </label>
        <button type="submit">Create project</button>
      </form>
      <table>
        <caption className="muted">Projects of this organization</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">ID</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {projects.data?.map((project) => (
            <tr key={project.id}>
              <td>
                {renaming?.id === project.id ? (
                  <form className="row" onSubmit={(e) => void rename(e)} aria-label={`Rename ${project.name}`}>
                    <label>
                      New name for {project.name}
                      <input name="name" defaultValue={project.name} required />
                    </label>
                    <button type="submit">Save</button>
                  </form>
                ) : (
                  <a href={`#/projects/${project.id}/keys`}>{project.name}</a>
                )}
              </td>
              <td>
                <code>{project.id}</code>
              </td>
              <td>{when(project.created_at)}</td>
              <td className="actions">
                <a href={`#/projects/${project.id}/indexes`}>Indexes</a>
                <button type="button" className="secondary" onClick={() => setRenaming(project)} aria-label={`Rename project ${project.name}`}>
                  Rename
                </button>
                <button type="button" className="secondary" onClick={() => setDeleting({ project, force: false })} aria-label={`Delete project ${project.name}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Confirm
        open={deleting !== undefined}
        title={deleting?.force ? `Force-delete ${deleting.project.name}?` : `Delete ${deleting?.project.name ?? ''}?`}
        confirmLabel={deleting?.force ? 'Revoke keys, delete indexes and project' : 'Delete project'}
        onConfirm={() => void remove()}
        onCancel={() => setDeleting(undefined)}
      >
        {deleting?.force ? (
          <p>This project still has indexes or live API keys. Forcing revokes every key at once and deletes every index with its data.</p>
        ) : (
          <p>The project is deleted if it has no indexes and no live API keys.</p>
        )}
      </Confirm>
    </>
  );
}
