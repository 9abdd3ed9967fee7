// Computes golden gradients of one fine-tuning step with TensorFlow.js
// itself, for golden_test.go: the loss of a small fixed head on the pooled
// mixed10 activations of the TF.js layers model in BACKBONE_DIR, for the
// three 299x299 PNGs of ../../inception/testdata (pixels scaled by x/255,
// the nsfwjs backbone's preprocessing), with batch normalisation in
// inference mode, differentiated by tf.variableGrads with respect to the
// head and every convolution kernel and batch normalisation beta of mixed9
// and mixed10.
//
//   npm ci && node gradgolden.js BACKBONE_DIR
//
// writes gradgolden.json (index, loss) and gradgolden.bin (the tensors,
// little-endian float32). Stored in full: the head, every beta, the
// kernels of the two pooling-branch 1x1 convolutions; of the other
// kernels, the first 8 output channels. Run once; its output is committed.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { PNG } = require('pngjs');

// The head: Dense(2048 -> 8, relu) -> Dense(8 -> 3, softmax), with weights
// from formulas that golden_test.go repeats.
const HIDDEN = 8;
const CLASSES = 3;
const LABELS = [0, 1, 2]; // cat, dog, sunflower
const SAMPLE_WEIGHTS = [1, 2, 0.5];
const SMOOTHING = 0.1;

function headWeights() {
  const k1 = new Float32Array(2048 * HIDDEN);
  for (let i = 0; i < 2048; i++) for (let j = 0; j < HIDDEN; j++) k1[i * HIDDEN + j] = 0.02 * Math.sin(0.37 * i + 1.3 * j + 0.5);
  const b1 = new Float32Array(HIDDEN);
  for (let j = 0; j < HIDDEN; j++) b1[j] = 0.01 * j - 0.03;
  const k2 = new Float32Array(HIDDEN * CLASSES);
  for (let j = 0; j < HIDDEN; j++) for (let k = 0; k < CLASSES; k++) k2[j * CLASSES + k] = 0.3 * Math.cos(0.7 * j + 2.1 * k);
  const b2 = new Float32Array(CLASSES);
  for (let k = 0; k < CLASSES; k++) b2[k] = 0.05 * k;
  return { k1, b1, k2, b2 };
}

// avgPoolSame is tf.avgPool(x, 3, 1, 'same') (padding excluded from the
// mean, as TensorFlow and Keras compute it) written so that its gradient is
// right: TF.js 4.22's avgPool gradient with 'same' padding divides by the
// full window (relative L2 error 0.32 against finite differences on a 4x5
// input), which would make every gradient below mixed10's pooling branch
// wrong by about 10%. A sum over the zero-padded input ('valid', no
// padding to get wrong) divided by each pixel's window count has the same
// forward values and a correct gradient (5e-6 against finite differences).
function avgPoolSame(x) {
  const [, h, w] = x.shape;
  const inv = new Float32Array(h * w);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      inv[i * w + j] = 1 / ((Math.min(i + 1, h - 1) - Math.max(i - 1, 0) + 1) * (Math.min(j + 1, w - 1) - Math.max(j - 1, 0) + 1));
    }
  }
  const sum = tf.mul(tf.avgPool(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 1, 'valid'), 9);
  return tf.mul(sum, tf.tensor4d(inv, [1, h, w, 1]));
}

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node gradgolden.js BACKBONE_DIR');
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

  const imgDir = path.join(__dirname, '..', '..', 'inception', 'testdata');
  const names = ['cat.png', 'dog.png', 'sunflower.png'];
  const rgb = new Float32Array(names.length * 299 * 299 * 3);
  names.forEach((name, n) => {
    const png = PNG.sync.read(fs.readFileSync(path.join(imgDir, name)));
    if (png.width !== 299 || png.height !== 299) throw new Error(`${name}: ${png.width}x${png.height}`);
    for (let i = 0; i < 299 * 299; i++) {
      for (let c = 0; c < 3; c++) rgb[(n * 299 * 299 + i) * 3 + c] = png.data[4 * i + c];
    }
  });
  const x = tf.tensor4d(rgb, [names.length, 299, 299, 3]).div(255);

  // Weighted layers (Conv2D, BatchNormalization) in model order: the
  // order of the weight file, which is how golden_test.go finds them.
  const weighted = model.layers.filter((l) => ['Conv2D', 'BatchNormalization'].includes(l.getClassName()));
  const start = model.layers.findIndex((l) => l.name === 'mixed8');
  const end = model.layers.findIndex((l) => l.name === 'mixed10');
  const top = model.layers.slice(start + 1, end + 1);
  const entries = []; // {name, layer index among weighted, kind, shape, channels}
  const vars = [];
  for (const l of top) {
    const cls = l.getClassName();
    if (cls === 'Conv2D') {
      entries.push({ weighted: weighted.indexOf(l), layer: l.name, kind: 'kernel', v: l.kernel.val });
    } else if (cls === 'BatchNormalization') {
      entries.push({ weighted: weighted.indexOf(l), layer: l.name, kind: 'beta', v: l.beta.val });
    }
  }
  const hw = headWeights();
  const head = {
    'dense_1/kernel': tf.variable(tf.tensor2d(hw.k1, [2048, HIDDEN])),
    'dense_1/bias': tf.variable(tf.tensor1d(hw.b1)),
    'dense_2/kernel': tf.variable(tf.tensor2d(hw.k2, [HIDDEN, CLASSES])),
    'dense_2/bias': tf.variable(tf.tensor1d(hw.b2)),
  };
  for (const e of entries) vars.push(e.v);
  for (const k of Object.keys(head)) vars.push(head[k]);

  const n = names.length;
  const target = tf.tensor2d(LABELS.flatMap((y) => Array.from({ length: CLASSES }, (_, c) => (c === y ? 1 - SMOOTHING : 0) + SMOOTHING / CLASSES)), [n, CLASSES]);
  const scale = tf.tensor2d(SAMPLE_WEIGHTS.map((w) => w / n), [n, 1]);
  // The top blocks are evaluated layer by layer from the model's own
  // layers and weights with plain tf ops: TF.js 4.22's fused convolution
  // (which Conv2D.apply uses) cannot be differentiated without a bias.
  const mixed8 = tf.model({ inputs: model.inputs, outputs: model.getLayer('mixed8').output }).predict(x);
  const evalTop = () => {
    const memo = new Map();
    const value = (l) => {
      if (l.name === 'mixed8') return mixed8;
      if (memo.has(l)) return memo.get(l);
      const ins = l.inboundNodes[0].inboundLayers.map(value);
      const cfg = l.getConfig();
      let y;
      switch (l.getClassName()) {
        case 'Conv2D':
          if (l.bias) throw new Error(`${l.name} has a bias`);
          y = tf.conv2d(ins[0], l.kernel.val, cfg.strides, cfg.padding);
          break;
        case 'BatchNormalization': {
          const inv = tf.rsqrt(tf.add(l.movingVariance.val, cfg.epsilon));
          const g = l.gamma ? tf.mul(inv, l.gamma.val) : inv;
          y = tf.add(tf.mul(tf.sub(ins[0], l.movingMean.val), g), l.beta.val);
          break;
        }
        case 'Activation':
          if (cfg.activation !== 'relu') throw new Error(`${l.name}: ${cfg.activation}`);
          y = tf.relu(ins[0]);
          break;
        case 'AveragePooling2D': {
          const k = cfg.pool_size || cfg.poolSize;
          if (k[0] !== 3 || k[1] !== 3 || cfg.padding !== 'same' || cfg.strides[0] !== 1) throw new Error(`${l.name}: ${JSON.stringify(cfg)}`);
          y = avgPoolSame(ins[0]);
          break;
        }
        case 'Concatenate':
          y = tf.concat(ins, -1);
          break;
        default:
          throw new Error(`${l.name}: unexpected ${l.getClassName()}`);
      }
      memo.set(l, y);
      return y;
    };
    return value(model.getLayer('mixed10'));
  };
  const f = () => {
    const pooled = evalTop().mean([1, 2]);
    const h = tf.relu(tf.add(tf.matMul(pooled, head['dense_1/kernel']), head['dense_1/bias']));
    const logits = tf.add(tf.matMul(h, head['dense_2/kernel']), head['dense_2/bias']);
    const ce = tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1, true);
    return tf.neg(tf.sum(tf.mul(ce, scale)));
  };
  // The layer-by-layer evaluation is the model: its pooled features are
  // those golden.js computed through the model's own layers.
  {
    const golden = JSON.parse(fs.readFileSync(path.join(imgDir, 'golden.json'), 'utf8'));
    const pooled = evalTop().mean([1, 2]).arraySync();
    names.forEach((name, n) => {
      const want = golden.features[name];
      let d = 0, norm = 0;
      for (let i = 0; i < want.length; i++) { d += (pooled[n][i] - want[i]) ** 2; norm += want[i] ** 2; }
      if (Math.sqrt(d / norm) > 1e-5) throw new Error(`${name}: layer-by-layer features differ from golden.json by ${Math.sqrt(d / norm)}`);
    });
  }
  const { value, grads } = tf.variableGrads(f, vars);

  const out = { backbone: 'nsfwjs@4.4.0 InceptionV3', preprocess: 'x/255', tfjs: tf.version.tfjs, photos: names,
    labels: LABELS, sample_weights: SAMPLE_WEIGHTS, smoothing: SMOOTHING, loss: (await value.data())[0], tensors: [] };
  const chunks = [];
  let offset = 0;
  const put = (meta, t) => {
    const data = t.dataSync();
    out.tensors.push({ ...meta, shape: t.shape, offset, count: data.length });
    chunks.push(Buffer.from(new Float32Array(data).buffer));
    offset += data.length;
  };
  const full = new Set();
  for (const e of entries) {
    if (e.kind === 'kernel' && e.v.shape[0] === 1 && e.v.shape[1] === 1 && e.v.shape[3] === 192) full.add(e);
  }
  for (const e of entries) {
    const g = grads[e.v.name];
    const meta = { weighted: e.weighted, layer: e.layer, kind: e.kind };
    if (e.kind === 'kernel' && !full.has(e)) {
      put({ ...meta, channels: 8 }, g.slice([0, 0, 0, 0], [-1, -1, -1, 8]));
    } else {
      put(meta, g);
    }
  }
  for (const k of Object.keys(head)) put({ head: k }, grads[head[k].name]);
  fs.writeFileSync(path.join(__dirname, 'gradgolden.bin'), Buffer.concat(chunks));
  fs.writeFileSync(path.join(__dirname, 'gradgolden.json'), JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
