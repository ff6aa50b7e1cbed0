// Validates Kubernetes manifests offline against the API's JSON schemas (kubernetes-models), one
// result per document as JSON on stdout. An ES module of its own because kubernetes-models is
// ESM-only and Jest's module loader cannot import it; the Kubernetes test runs it with tsx.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseAllDocuments } from 'yaml';

interface Result {
  file: string;
  kind: string;
  name: string;
  error?: string;
}

interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
}

async function validate(file: string, manifest: Manifest): Promise<Result> {
  const kind = manifest.kind ?? '?';
  const result = { file: basename(file), kind, name: manifest.metadata?.name ?? '?' };
  try {
    const module = (await import(`kubernetes-models/${manifest.apiVersion}/${kind}`)) as Record<
      string,
      new (data: unknown) => { validate(): void }
    >;
    const Model = module[kind];
    if (Model === undefined) throw new Error(`no model for ${manifest.apiVersion} ${kind}`);
    new Model(manifest).validate();
    return result;
  } catch (err) {
    return { ...result, error: err instanceof Error ? err.message : String(err) };
  }
}

const results: Result[] = [];
for (const file of process.argv.slice(2)) {
  for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (document.errors.length > 0) {
      results.push({ file: basename(file), kind: '?', name: '?', error: document.errors[0]!.message });
      continue;
    }
    results.push(await validate(file, document.toJS() as Manifest));
  }
}
process.stdout.write(JSON.stringify(results));
