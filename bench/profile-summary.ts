import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  /** Per cent of the busy (non-idle) time. */
  share: number;
}

export interface ProfileSummary {
  name: string;
  path: string;
  /** Busy main-thread time sampled. */
  totalMs: number;
  /** Time spent in a package's own code. */
  byPackage: ProfileEntry[];
  /** Time with the package anywhere on the stack: what removing its calls could save at most. */
  byPackageInclusive: ProfileEntry[];
  byFunction: ProfileEntry[];
}

/** Where a function lives: an npm package, a part of the broker, Node itself, or V8. */
function owner(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? `V8 ${functionName}` : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const [scope = '', name = ''] = url.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (url.startsWith('node:'))
    return `node:${
      url
        .slice(5)
        .replace(/^internal\//, '')
        .split('/')[0]
    }`;
  const src = /\/(src|bench)\/(.*)$/.exec(url.replace(/^.*\/results\/build\//, '/'));
  return src ? `${src[1]}/${src[2]!.split('/')[0]}` : basename(url);
}

function rank(times: Map<string, number>, total: number): ProfileEntry[] {
  return [...times]
    .map(([name, ms]) => ({ name, ms: Math.round(ms), share: (ms / total) * 100 }))
    .sort((a, b) => b.ms - a.ms);
}

const add = (times: Map<string, number>, key: string, ms: number) =>
  times.set(key, (times.get(key) ?? 0) + ms);

/** Self and inclusive time by package, and self time by function, from a V8 .cpuprofile; idle left out. */
export async function summariseProfile(path: string, name: string): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)),
  );
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const ownerOf = (id: number) => {
    const { url, functionName } = nodes.get(id)!.callFrame;
    return owner(url, functionName);
  };
  const byPackage = new Map<string, number>();
  const byPackageInclusive = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = (selfUs.get(node.id) ?? 0) / 1000;
    const { functionName, url, lineNumber } = node.callFrame;
    if (ms === 0 || functionName === '(idle)') continue;
    total += ms;
    const where = owner(url, functionName);
    add(byPackage, where, ms);
    add(
      byFunction,
      `${functionName || '(anonymous)'} ${url === '' ? '' : `${basename(url)}:${lineNumber + 1} `}[${where}]`,
      ms,
    );
    const onStack = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id))
      onStack.add(ownerOf(id));
    for (const pkg of onStack) add(byPackageInclusive, pkg, ms);
  }
  return {
    name,
    path,
    totalMs: Math.round(total),
    byPackage: rank(byPackage, total),
    byPackageInclusive: rank(byPackageInclusive, total).filter((e) => !e.name.startsWith('V8 (root)')),
    byFunction: rank(byFunction, total),
  };
}
