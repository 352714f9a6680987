import { useState, type FormEvent } from 'react';

export function SignIn({ onSignIn }: { onSignIn: (clientId: string, clientSecret: string) => Promise<void> }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      await onSignIn(String(form.get('client_id') ?? '').trim(), String(form.get('client_secret') ?? ''));
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <article>
      <h1>Conifer console</h1>
      <p>Sign in with a service account's credentials.</p>
      {error && (
        <p role="alert" className="notice error">
          {error}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Client ID
          <input name="client_id" autoComplete="username" required />
        </label>
        <label>
          Client secret
          <input name="client_secret" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" aria-busy={busy} disabled={busy}>
          Sign in
        </button>
      </form>
    </article>
  );
}
