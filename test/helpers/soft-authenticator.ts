/** The software authenticator the simulator's staff use, driven by the tests through the HTTP API. */
export * from '../../src/sim/soft-authenticator.js';
