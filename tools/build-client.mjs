// Builds the files browsers get, static/dist/, from the readable sources in static/:
// `npm run build`. The script is minified by terser, the stylesheet by esbuild (both pinned
// exactly in package.json). `npm run check` (CI) fails when the committed build is not exactly
// what the sources produce.
import {readFileSync, writeFileSync, mkdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {minify} from 'terser'
import {transformSync} from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')

// The source is written as plain JavaScript (named functions, real booleans); compression
// is terser's business. The unsafe_* options only apply to what the source does not do (no
// `this` in function expressions, no getters with side effects).
async function minifyScript(source) {
  const result = await minify(source, {
    ecma: 2020,
    compress: {
      passes: 3,
      unsafe: true,
      unsafe_arrows: true,
      unsafe_methods: true,
      pure_getters: true,
    },
    mangle: true,
    format: {comments: false},
  })
  return result.code
}

function minifyStylesheet(source) {
  return transformSync(source, {loader: 'css', minify: true, legalComments: 'none', charset: 'utf8'}).code
}

const builds = [
  {source: 'static/session-security.js', output: 'static/dist/session-security.min.js', build: minifyScript},
  {source: 'static/session-security-last-tab.js', output: 'static/dist/session-security-last-tab.min.js', build: minifyScript},
  {source: 'static/session-security-drafts.js', output: 'static/dist/session-security-drafts.min.js', build: minifyScript},
  {source: 'static/session-security.css', output: 'static/dist/session-security.min.css', build: minifyStylesheet},
]

let stale = 0
for (const {source, output, build} of builds) {
  const code = await build(readFileSync(join(root, source), 'utf8'))
  const path = join(root, output)
  if (check) {
    let committed = null
    try {
      committed = readFileSync(path, 'utf8')
    } catch (error) {
      // Missing: stale.
    }
    if (committed !== code) {
      console.error(`${output} is not what ${source} builds to: run \`npm run build\` and commit the result`)
      stale += 1
    }
  } else {
    mkdirSync(dirname(path), {recursive: true})
    writeFileSync(path, code)
    console.log(`${output}: ${code.length} bytes`)
  }
}
if (check && stale === 0) {
  console.log('static/dist/ is what the sources build to')
}
process.exit(stale === 0 ? 0 : 1)
