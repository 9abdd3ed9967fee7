// Turns the InceptionV3 bundled in the npm package nsfwjs@4.4.0 (JavaScript
// modules that embed model.json and base64 weight shards) into a standard
// TensorFlow.js layers-model folder: model.json plus binary shards.
//
//   node tools/nsfwjs-backbone.js NSFWJS_PACKAGE_DIR OUT_DIR
//
// NSFWJS_PACKAGE_DIR is the "package" folder unpacked from `npm pack nsfwjs@4.4.0`.
'use strict';
const fs = require('fs');
const path = require('path');

function main() {
  const [pkg, out] = process.argv.slice(2);
  if (!pkg || !out) {
    console.error('usage: node nsfwjs-backbone.js NSFWJS_PACKAGE_DIR OUT_DIR');
    process.exit(2);
  }
  const dir = path.join(pkg, 'dist', 'models', 'inception_v3');
  const model = require(path.resolve(dir, 'model.min.js'));
  if (!model.modelTopology || !model.weightsManifest) {
    throw new Error(`${dir}/model.min.js: no modelTopology/weightsManifest`);
  }
  fs.mkdirSync(out, { recursive: true });
  for (const group of model.weightsManifest) {
    group.paths = group.paths.map((name) => {
      const mod = require(path.resolve(dir, `${name}.min.js`));
      const b64 = typeof mod === 'string' ? mod : mod.default;
      if (typeof b64 !== 'string') throw new Error(`${name}.min.js: no base64 payload`);
      const file = `${name}.bin`;
      fs.writeFileSync(path.join(out, file), Buffer.from(b64, 'base64'));
      return file;
    });
  }
  const json = {
    format: 'layers-model',
    generatedBy: 'keras v' + model.modelTopology.keras_version,
    convertedBy: 'clasifica tools/nsfwjs-backbone.js from nsfwjs@4.4.0',
    modelTopology: model.modelTopology,
    weightsManifest: model.weightsManifest,
  };
  // The backbone's identity and preprocessing, which model.json cannot
  // say: nsfwjs was fine-tuned on pixels scaled to [0, 1].
  const info = {
    id: 'nsfwjs-inceptionv3',
    name: 'nsfwjs InceptionV3 (offline test backbone)',
    description: 'InceptionV3 fine-tuned for NSFW detection, from the npm package nsfwjs@4.4.0 (uint8-quantised). ' +
      'Its features transfer poorly to other tasks: use it to prove the pipeline offline, not for real classifiers.',
    source: 'npm:nsfwjs@4.4.0',
    preprocess: { scale: 1 / 255, offset: 0 },
  };
  fs.writeFileSync(path.join(out, 'clasifica-backbone.json'), JSON.stringify(info, null, 2) + '\n');
  const tmp = path.join(out, 'model.json.tmp');
  fs.writeFileSync(tmp, JSON.stringify(json));
  fs.renameSync(tmp, path.join(out, 'model.json'));
}

main();
