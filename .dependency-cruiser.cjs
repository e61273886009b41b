/**
 * The architecture's rules, checked by `npm run lint` (dependency-cruiser): which folder may import
 * which. README "Project layout" draws the same map. Tests may reach across (they prove that the
 * pieces fit), except where a rule says otherwise.
 */
const TESTS = '\\.test\\.ts$';
const CONTEXTS = ['registry', 'lake', 'inference', 'rollout', 'training', 'deployments', 'async', 'batch', 'stream'];
const context = (name) => `^src/${name}/`;
/**
 * Contexts (and the ML library) each context may not import: the map is registry, lake → inference → rollout;
 * lake, registry → training; ml → inference, training; registry → deployments (which no context imports:
 * serving reads a version's deployment from the registry); inference, registry → async and stream (the entry
 * points that serve through the one inference path), and lake too → batch (its inputs and outputs are lake data).
 */
const ENTRY_POINTS = ['async', 'batch', 'stream'];
const CONTEXT_FORBIDS = {
  registry: ['lake', 'inference', 'rollout', 'training', 'deployments', 'ml', ...ENTRY_POINTS],
  lake: ['registry', 'inference', 'rollout', 'training', 'deployments', 'ml', ...ENTRY_POINTS],
  inference: ['lake', 'rollout', 'training', 'deployments', ...ENTRY_POINTS],
  rollout: ['lake', 'training', 'deployments', 'ml', ...ENTRY_POINTS],
  training: ['inference', 'rollout', 'deployments', ...ENTRY_POINTS],
  deployments: ['lake', 'inference', 'rollout', 'training', 'ml', ...ENTRY_POINTS],
  async: ['lake', 'rollout', 'training', 'deployments', 'ml', 'batch', 'stream'],
  batch: ['rollout', 'training', 'deployments', 'ml', 'async', 'stream'],
  stream: ['lake', 'rollout', 'training', 'deployments', 'ml', 'async', 'batch'],
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle anywhere: a cycle means two modules are one, or a seam is in the wrong place.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'topology-stands-alone',
      comment: "topology/ is the platform's shared description, read by everyone: it imports nothing of ours but itself.",
      severity: 'error',
      from: { path: '^topology/', pathNot: TESTS },
      to: { path: '^(src|infra|local|functions|layers|bench|test)/' },
    },
    {
      name: 'ml-is-a-library',
      comment: 'src/ml is a training library usable on its own: no platform code (its tests may load models through src/inference).',
      severity: 'error',
      from: { path: '^src/ml/', pathNot: TESTS },
      to: { path: '^(src/(?!ml/)|topology|infra|local|functions|layers)' },
    },
    {
      name: 'domain-below-adapters',
      comment: 'Domain code (src/) never imports the stack, the local cloud, the handlers or the benchmarks.',
      severity: 'error',
      from: { path: '^src/', pathNot: TESTS },
      to: { path: '^(infra|local|functions|bench|test)/' },
    },
    {
      name: 'shared-below-contexts',
      comment: 'The shared layer (AWS access, storage, HTTP, validation, the handler stack, errors, configuration) serves the contexts and never imports them, nor the ML library.',
      severity: 'error',
      from: { path: '^src/(aws|storage|http|validation|runtime)/|^src/[^/]+\\.ts$', pathNot: TESTS },
      to: { path: `^src/(${[...CONTEXTS, 'ml'].join('|')})/` },
    },
    {
      name: 'only-routes-speak-http',
      comment:
        "Domain code throws domain errors (src/errors.ts) and never sees HTTP: inside src/, only a context's route table (*-routes.ts) imports src/http/, which maps errors to statuses in one place.",
      severity: 'error',
      from: { path: '^src/', pathNot: `${TESTS}|^src/http/|-routes\\.ts$` },
      to: { path: '^src/http/' },
    },
    ...Object.entries(CONTEXT_FORBIDS).map(([from, targets]) => ({
      name: `${from}-context-depends-downwards`,
      comment: `The ${from} context may not import ${targets.join(', ')} (contexts depend downwards only).`,
      severity: 'error',
      from: { path: context(from), pathNot: TESTS },
      to: { path: `^src/(${targets.join('|')})/` },
    })),
    {
      name: 'handlers-are-not-adapters-of-each-other',
      comment: 'A handler imports domain code, never another handler, the stack or the local cloud.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/', pathNot: TESTS },
      to: { path: '^(infra|local|bench|test)/|^functions/', pathNot: '^functions/$1/' },
    },
    {
      name: 'infra-reads-storage-layouts-only',
      comment:
        "The stack builds resources from the topology (storage-layout.ts: the items and keys grants are scoped to) and reads of src/ only the table's key schema (src/storage): never a context's code.",
      severity: 'error',
      from: { path: '^infra/', pathNot: TESTS },
      to: { path: '^src/', pathNot: '^src/storage/' },
    },
    {
      name: 'infra-and-local-read-the-description',
      comment: 'The stack and the local cloud share the topology; neither imports the other.',
      severity: 'error',
      from: { path: '^(infra|local)/', pathNot: TESTS },
      to: { path: '^(infra|local)/', pathNot: '^$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out|\\.local-cloud|dist|coverage)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
