// Computes golden InceptionV3 features with TensorFlow.js itself, for
// graph_test.go: for each 299x299 PNG here, the global average of the
// mixed10 activations of the TF.js layers model in BACKBONE_DIR, fed with
// pixels scaled by x/255 (the nsfwjs backbone's preprocessing).
//
//   npm install && node golden.js BACKBONE_DIR > golden.json
//
// Run once; its output is committed.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { PNG } = require('pngjs');

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node golden.js BACKBONE_DIR');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const weightSpecs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs, weightData,
  }));
  const features = tf.model({ inputs: model.inputs, outputs: model.getLayer('mixed10').output });
  const out = { backbone: 'nsfwjs@4.4.0 InceptionV3', preprocess: 'x/255', tfjs: tf.version.tfjs, features: {} };
  for (const name of ['cat.png', 'dog.png', 'sunflower.png']) {
    const png = PNG.sync.read(fs.readFileSync(path.join(__dirname, name)));
    if (png.width !== 299 || png.height !== 299) throw new Error(`${name}: ${png.width}x${png.height}`);
    const rgb = new Float32Array(299 * 299 * 3);
    for (let i = 0; i < 299 * 299; i++) {
      for (let c = 0; c < 3; c++) rgb[3 * i + c] = png.data[4 * i + c];
    }
    const x = tf.tensor4d(rgb, [1, 299, 299, 3]).div(255);
    const f = features.predict(x).mean([1, 2]);
    out.features[name] = Array.from(await f.data());
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
