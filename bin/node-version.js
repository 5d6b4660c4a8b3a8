// Plain JavaScript with no import, so that it runs on any Node.js before anything that needs a newer
// one is even parsed: Node.js 20 reached its end of life in April 2026, and a security product does
// not run on it.
export const REQUIRED_NODE_MAJOR = 24;

/** The message for a Node.js version older than the one Vigie needs, or undefined when it is enough. */
export function nodeVersionRefusal(version) {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1] ?? 0);
  if (major >= REQUIRED_NODE_MAJOR) return undefined;
  return (
    `vigie needs Node.js ${REQUIRED_NODE_MAJOR} or later; this is Node.js ${version}. ` +
    `Install Node.js ${REQUIRED_NODE_MAJOR} LTS, or run it under scripts/node24.sh, ` +
    `which installs Node.js ${REQUIRED_NODE_MAJOR} from the npm registry.`
  );
}
