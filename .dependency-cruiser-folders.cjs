/** The folder pass of `npm run deps`: each folder of core/ and plugins/ is one node, and every import counts, types too. */
const base = require('./.dependency-cruiser.cjs');
module.exports = {
  ...base,
  forbidden: base.forbidden.map((rule) => (rule.name === 'no-cycles'
    ? { ...rule, name: 'no-folder-cycles', to: { circular: true } }
    : rule)),
};
