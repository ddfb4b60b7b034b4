// Validate glTF/GLB files with Khronos's reference validator; print one JSON report per file.
// Usage: node validate_gltf.js FILE...
const fs = require('fs');
const validator = require('gltf-validator');

async function main() {
  const reports = {};
  for (const file of process.argv.slice(2)) {
    const data = new Uint8Array(fs.readFileSync(file));
    reports[file] = await validator.validateBytes(data, { maxIssues: 100 });
  }
  process.stdout.write(JSON.stringify(reports));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
