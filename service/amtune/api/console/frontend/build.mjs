// Builds the console's ECharts bundle from the versions pinned in package-lock.json:
//   npm ci && npm run build
// The output is committed (about 0.5 MB), so serving the console needs no Node.js.
import { build } from "esbuild";

await build({
  entryPoints: ["charts.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2019",
  legalComments: "eof",
  outfile: "../static/vendor/echarts-console.min.js",
});
