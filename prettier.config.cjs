/** @type {import('prettier').Config} */

// Prettier settings of OCA's addons template for Odoo 18.0. A .cjs file rather
// than .prettierrc.yml: Prettier 3 resolves plugins named in a YAML or JSON
// config from the working directory, where pre-commit's node environment is
// not, so the plugin is resolved here, by require.
const config = {
  // https://github.com/prettier/prettier/issues/15388#issuecomment-1717746872
  plugins: [require.resolve("@prettier/plugin-xml")],
  bracketSpacing: false,
  printWidth: 88,
  proseWrap: "always",
  semi: true,
  trailingComma: "es5",
  xmlWhitespaceSensitivity: "preserve",
};

module.exports = config;
