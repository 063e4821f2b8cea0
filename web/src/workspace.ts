// The workspace every request is about (issue 14): GET /me lists the caller's workspaces; the one chosen last
// (or the first) is sent as X-Workspace-Id by the API client. An API without workspaces answers /me with 404:
// requests then carry no workspace. The header's switcher changes it; screens read the role from the context.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { ApiError, get, setWorkspaceId } from "./api";

export type Role = "owner" | "editor" | "viewer";
export interface Workspace { id: string; name: string; role: Role }
export interface Me { user_id: string; email: string | null; workspaces: Workspace[] }
export interface Chosen { current: Workspace | null; all: Workspace[] }

const CHOSEN = "vidstats.workspace";

/** The workspace to work in: null without workspaces in the API; an empty list when the user is in none. */
export async function chooseWorkspace(): Promise<Chosen | null> {
  let me: Me;
  try {
    me = await get<Me>("/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
  const chosen = localStorage.getItem(CHOSEN);
  const current = me.workspaces.find((w) => w.id === chosen) ?? me.workspaces[0] ?? null;
  setWorkspaceId(current?.id ?? null);
  return { current, all: me.workspaces };
}

export function rememberWorkspace(id: string): void {
  localStorage.setItem(CHOSEN, id);
  setWorkspaceId(id);
}

/** What the signed-in user may do here: their role in the current workspace (null: an API without workspaces,
 * where every command is allowed) and whether the token names an instance administrator. */
export interface Access { role: Role | null; admin: boolean }

export const AccessContext = createContext<Access>({ role: null, admin: false });

export type Abilities = Access & { canEdit: boolean };

export function abilities(access: Access): Abilities {
  return { ...access, canEdit: access.role !== "viewer" };
}

export function useAccess(): Abilities {
  return abilities(useContext(AccessContext));
}

/** The token's `app_metadata.role` is "admin" (only the service role can set it; the API checks it again). */
export function isAdminToken(token: string): boolean {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload + "=".repeat((4 - (payload.length % 4)) % 4)));
    return claims?.app_metadata?.role === "admin";
  } catch {
    return false;
  }
}
