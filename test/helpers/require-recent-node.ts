// Jest's global setup: on a too-old Node, one line that says what to do instead of a failing suite.
import '../../src/node-version';

export default function requireRecentNode(): void {}
