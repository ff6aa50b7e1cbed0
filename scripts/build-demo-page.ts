import '../src/node-version';
import { join } from 'node:path';
import { webRoot, writePrebuiltPage } from './demo/page-bundle';

// Where tsconfig.demo.json puts the compiled demo: its page server looks for the page here.
const target = join(__dirname, '..', 'dist', 'demo', 'examples', 'web');

writePrebuiltPage(webRoot, target).then(
  (files) => process.stdout.write(`example page bundled into ${target}: ${files.join(', ')}\n`),
  (err: unknown) => {
    process.stderr.write(
      `bundling the example page failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
