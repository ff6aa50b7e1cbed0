// A developer's own React app: only React, Vite and avaturn-broker-client, as the packing test installs it.
import { BrokerError, createBrokerClient } from 'avaturn-broker-client';
import { useAvaturnSession } from 'avaturn-broker-client/react';
import { StrictMode, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';

const params = new URLSearchParams(location.search);
const brokerUrl = params.get('broker') ?? 'http://127.0.0.1:8080';
const idpUrl = params.get('idp') ?? 'http://127.0.0.1:4020';
let token = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined;

const broker = createBrokerClient({
  baseUrl: brokerUrl,
  getToken: () => {
    if (token === undefined) throw new Error('Sign in first.');
    return token;
  },
});

async function signIn(user: string): Promise<void> {
  const res = await fetch(`${idpUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  if (!res.ok) throw new Error(`Sign-in failed (${res.status}).`);
  token = ((await res.json()) as { access_token: string }).access_token;
}

function Avatar() {
  const [wanted, setWanted] = useState(false);
  const { status, session, error, start, end } = useAvaturnSession({ client: broker, enabled: wanted });
  const running = status === 'starting' || status === 'live' || status === 'ending';
  return (
    <section>
      <p data-testid="status">{status}</p>
      {session && <code data-testid="session-id">{session.sessionId}</code>}
      {error && (
        <p role="alert" data-testid="error">
          {error instanceof BrokerError ? `${error.message} (${error.code})` : error.message}
        </p>
      )}
      <button data-testid="start" disabled={running} onClick={() => (wanted ? start() : setWanted(true))}>
        Start
      </button>
      <button data-testid="stop" disabled={status !== 'live'} onClick={() => void end()}>
        Stop
      </button>
    </section>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(token !== undefined);
  const [problem, setProblem] = useState<string>();
  if (signedIn) return <Avatar />;
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const user = new FormData(event.currentTarget).get('user');
    signIn(String(user)).then(
      () => setSignedIn(true),
      (err: unknown) => setProblem(String(err)),
    );
  };
  return (
    <form onSubmit={onSubmit}>
      <input name="user" data-testid="user" required />
      <button data-testid="sign-in">Sign in</button>
      {problem && <p role="alert">{problem}</p>}
    </form>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
