// A PreparePool worker thread: runs PrepareExecutor requests posted by the pool, one at a time.
import { parentPort } from "node:worker_threads";
import { PrepareExecutor, type PrepareRequest } from "./prepare";

const executor = new PrepareExecutor();
parentPort!.on("message", async ({ id, request }: { id: number; request: PrepareRequest }) => {
  try {
    parentPort!.postMessage({ id, response: await executor.run(request) });
  } catch (error) {
    parentPort!.postMessage({ id, error: { message: (error as Error).message, code: (error as { code?: string }).code } });
  }
});
