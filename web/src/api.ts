// The one client of the dashboard API: every request carries the access token and, once a workspace is chosen,
// X-Workspace-Id (workspaces, issue 14). Errors come back as ApiError with the API's error body.
export interface Problem { field: string; message: string }

export class ApiError extends Error {
  constructor(public status: number, public title: string, public problems: Problem[]) {
    super(problems.length ? `${title}: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}` : title);
  }
}

let accessToken: string | null = null;
let workspaceId: string | null = null;
let onUnauthorized: () => void = () => {};

export function setAccessToken(token: string | null): void { accessToken = token; }
export function setWorkspaceId(id: string | null): void { workspaceId = id; }
export function whenUnauthorized(handler: () => void): void { onUnauthorized = handler; }

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

// A share link's routes (/shared/<token>...) carry no credentials: the token in the path is the only one.
function isPublic(path: string): boolean { return path.startsWith("/shared/"); }

function headers(body: boolean, path: string): Headers {
  const result = new Headers();
  if (accessToken && !isPublic(path)) result.set("Authorization", `Bearer ${accessToken}`);
  if (workspaceId && !isPublic(path)) result.set("X-Workspace-Id", workspaceId);
  if (body) result.set("Content-Type", "application/json");
  return result;
}

async function send(method: string, path: string, query?: Query, body?: unknown): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(withQuery(path, query), {
      method, headers: headers(body !== undefined, path), body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "The dashboard API cannot be reached", []);
  }
  if (response.ok) return response;
  let title = response.statusText || `HTTP ${response.status}`;
  let problems: Problem[] = [];
  try {
    const error = await response.json();
    title = error.title ?? error.message ?? title;
    problems = Array.isArray(error.errors) ? error.errors : [];
  } catch { /* not the API's error body (a gateway's) */ }
  if (response.status === 401 && !isPublic(path)) onUnauthorized();
  throw new ApiError(response.status, title, problems);
}

export async function get<T>(path: string, query?: Query): Promise<T> {
  return (await send("GET", path, query)).json();
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  return (await send("POST", path, undefined, body)).json();
}

export async function del<T>(path: string): Promise<T> {
  return (await send("DELETE", path)).json();
}

export async function patch<T>(path: string, body: unknown): Promise<T> {
  return (await send("PATCH", path, undefined, body)).json();
}

export async function put<T>(path: string, body: unknown): Promise<T> {
  return (await send("PUT", path, undefined, body)).json();
}

/** A file the API answers (CSV): its name from Content-Disposition, and its content. */
export async function download(path: string): Promise<{ name: string; blob: Blob }> {
  const response = await send("GET", path);
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "export.csv";
  return { name, blob: await response.blob() };
}
