// What the live view and the dataset page share: the registry's resource named in the route, or a
// "not found" page that says what was asked for.
import { html } from "../dom";
import type { Resource } from "../indexer";
import type { App } from "../app";

export async function resourceOrNotFound(main: HTMLElement, app: App, id: string, kind: Resource["kind"]): Promise<Resource | undefined> {
  await app.indexer.sync();
  const resource = app.indexer.resources.get(id);
  if (resource?.kind === kind) return resource;
  main.innerHTML = html`<h1>Unknown ${kind}</h1>
    <p>No ${kind} ${id} in the registry. Find one on <a href="#/discover">Discover</a>.</p>`.text;
  return undefined;
}
