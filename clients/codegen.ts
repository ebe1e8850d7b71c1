// TypeScript from ../schema.graphql and operations.graphql (./scripts/codegen runs it).
import type { CodegenConfig } from "@graphql-codegen/cli";

// The custom scalars as they travel in JSON.
const scalars = { DateTime: "string", Metadata: "Record<string, string | string[]>" };

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: "operations.graphql",
  generates: {
    // Every type of the schema.
    "generated/schema.ts": {
      plugins: ["typescript"],
      config: { scalars, strictScalars: true, enumsAsTypes: true },
    },
    // Each operation's result and variables, and its typed document for Apollo Client and urql.
    "generated/graphql.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: { scalars, strictScalars: true },
    },
  },
};

export default config;
