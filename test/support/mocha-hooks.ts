/**
 * Root hooks of every mocha run (.mocharc.json `require`): the integration tests share one moto
 * server (test/support/moto.ts), stopped here after the last test.
 */
import { stopSharedMoto } from "./moto.ts";

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedMoto();
  },
};
