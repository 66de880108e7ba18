import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // examples/ holds the documents' code verbatim (fragments among them): it is run, not linted.
  { ignores: ["dist/", "node_modules/", "examples/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
);
