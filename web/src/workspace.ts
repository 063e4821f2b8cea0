// The workspace every request is about (issue 14): GET /me lists the caller's workspaces; the one chosen last
// (or the first) is sent as X-Workspace-Id by the API client. An API without workspaces answers /me with 404:
// requests then carry no workspace. The switcher that changes it belongs in the layout's workspace slot.
import { ApiError, get, setWorkspaceId } from "./api";

export interface Workspace { id: string; name: string; role: "owner" | "editor" | "viewer" }
export interface Me { user_id: string; email: string | null; workspaces: Workspace[] }

const CHOSEN = "vidstats.workspace";

/** The workspace to work in: null without workspaces in the API; an empty list when the user is in none. */
export async function chooseWorkspace(): Promise<{ current: Workspace | null; all: Workspace[] } | null> {
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
}
