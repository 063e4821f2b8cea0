// Sign-in: Supabase Auth (e-mail + password, magic link) when the API's /app-config.json names a project; in
// `make dev`, the local stack's one-click development sign-in (/_local/dev-sign-in, never deployed).
import type { SupabaseClient } from "@supabase/supabase-js";
import { setAccessToken } from "./api";

export interface Session { token: string; email: string; kind: "supabase" | "development" }
export interface AuthConfig { supabase_url: string; supabase_key: string }
export interface DevUser { id: string; email: string }

const DEV_KEY = "vidstats.dev-session";
let supabase: SupabaseClient | null = null;
let listener: (session: Session | null) => void = () => {};

export async function loadConfig(): Promise<AuthConfig | null> {
  try {
    const response = await fetch("/app-config.json");
    return response.ok ? ((await response.json()).auth ?? null) : null;
  } catch {
    return null;
  }
}

/** The demo users the local stack can sign in, or null outside `make dev`. */
export async function devUsers(): Promise<DevUser[] | null> {
  try {
    const response = await fetch("/_local/dev-sign-in");
    if (!response.ok) return null;
    return (await response.json()).users ?? null;
  } catch {
    return null;
  }
}

function publish(session: Session | null): void {
  setAccessToken(session?.token ?? null);
  listener(session);
}

export function onSession(handler: (session: Session | null) => void): void { listener = handler; }

export async function start(config: AuthConfig | null): Promise<Session | null> {
  const stored = sessionStorage.getItem(DEV_KEY);
  if (stored) {
    const session = JSON.parse(stored) as Session;
    setAccessToken(session.token);
    return session;
  }
  if (!config) return null;
  const { createClient } = await import("@supabase/supabase-js");
  supabase = createClient(config.supabase_url, config.supabase_key, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: true, flowType: "pkce" },
  });
  supabase.auth.onAuthStateChange((_event, session) => {
    publish(session ? { token: session.access_token, email: session.user.email ?? "", kind: "supabase" } : null);
  });
  const { data } = await supabase.auth.getSession();
  const session = data.session;
  if (!session) return null;
  setAccessToken(session.access_token);
  return { token: session.access_token, email: session.user.email ?? "", kind: "supabase" };
}

export async function signInWithPassword(email: string, password: string): Promise<void> {
  if (!supabase) throw new Error("Sign-in is not configured for this deployment");
  const { error } = await supabase.auth.signInWithPassword({ email, password });
  if (error) throw new Error(error.message);
}

export async function sendMagicLink(email: string): Promise<void> {
  if (!supabase) throw new Error("Sign-in is not configured for this deployment");
  const { error } = await supabase.auth.signInWithOtp({
    email, options: { emailRedirectTo: `${location.origin}/`, shouldCreateUser: false },
  });
  if (error) throw new Error(error.message);
}

export async function devSignIn(user: DevUser): Promise<void> {
  const response = await fetch("/_local/dev-sign-in", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: user.email }),
  });
  if (!response.ok) throw new Error(`Development sign-in failed (HTTP ${response.status})`);
  const answer = await response.json();
  const session: Session = { token: answer.access_token ?? "", email: answer.user?.email ?? user.email,
    kind: "development" };
  sessionStorage.setItem(DEV_KEY, JSON.stringify(session));
  publish(session);
}

export async function signOut(): Promise<void> {
  sessionStorage.removeItem(DEV_KEY);
  if (supabase) await supabase.auth.signOut();
  publish(null);
}
