import { useEffect, useState } from "preact/hooks";
import type { AuthConfig, DevUser } from "./auth";
import { devSignIn, devUsers, sendMagicLink, signInWithPassword } from "./auth";

export function SignIn({ config }: { config: AuthConfig | null }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const [demo, setDemo] = useState<DevUser[] | null>(null);
  useEffect(() => { devUsers().then(setDemo); }, []);
  const act = (what: () => Promise<string | void>) => async (event?: Event) => {
    event?.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const text = await what();
      if (text) setMessage({ text, error: false });
    } catch (error) {
      setMessage({ text: error instanceof Error ? error.message : String(error), error: true });
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <h1>vidstats</h1>
      <p>Your campaigns' videos, how they grow, every morning.</p>
      {demo?.length ? (
        <section aria-labelledby="dev-title" class="dev">
          <h2 id="dev-title">Local development</h2>
          {demo.map((user) => (
            <button type="button" key={user.id} disabled={busy} onClick={act(() => devSignIn(user))}>
              Development sign-in as {user.email}</button>))}
        </section>) : null}
      {config ? (
        <form onSubmit={act(() => signInWithPassword(email, password))} aria-labelledby="signin-title">
          <h2 id="signin-title">Sign in</h2>
          <label for="email">E-mail</label>
          <input id="email" type="email" autocomplete="email" required value={email}
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
          <label for="password">Password</label>
          <input id="password" type="password" autocomplete="current-password" value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
          <div class="actions">
            <button type="submit" disabled={busy || !password}>Sign in</button>
            <button type="button" disabled={busy || !email} onClick={act(async () => {
              await sendMagicLink(email);
              return `We sent a sign-in link to ${email}.`;
            })}>E-mail me a sign-in link</button>
          </div>
        </form>) : demo === null ? null : !demo.length ? (
          <p class="state error" role="alert">Sign-in is not configured for this deployment (SupabasePublishableKey).</p>) : null}
      {message ? <p class={message.error ? "state error" : "state"} role="status">{message.text}</p> : null}
    </main>
  );
}
