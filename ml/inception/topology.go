// Package inception defines InceptionV3 exactly as Keras builds it
// (keras.applications.InceptionV3 with include_top=False and global average
// pooling) and emits it as an ONNX graph from Keras weights.
//
// Layers carry the names Keras 2.2 gives them ("conv2d_1",
// "batch_normalization_1", "mixed0", ...). Weights are matched to layers the
// way Keras matches a weight file to a model: by the order of the layers
// that have weights, checking every shape, so files written by any Keras
// version load.
package inception

// Size is the side of the square RGB image InceptionV3 reads.
const Size = 299

// Features is the length of the pooled feature vector InceptionV3 produces.
const Features = 2048

// Kind is the type of a layer.
type Kind int

// The layer kinds InceptionV3 uses.
const (
	Input Kind = iota
	Conv
	BatchNorm
	ReLU
	MaxPool
	AvgPool
	Concat
	GlobalAvgPool
)

// Layer is one Keras layer of the network.
type Layer struct {
	Name   string
	Kind   Kind
	Inputs []int // indices of the layers feeding this one, in order

	// Conv: output channels, kernel size and stride. Pooling: window size
	// and stride.
	Filters        int
	KH, KW, Stride int
	Same           bool // "same" padding rather than "valid"
}

// network records layers in the order the Keras code creates them, naming
// them the way Keras 2.2 auto-names layers.
type network struct {
	layers []Layer
	count  map[string]int
}

func (n *network) add(l Layer, base string) int {
	if l.Name == "" {
		n.count[base]++
		l.Name = base + "_" + itoa(n.count[base])
	}
	n.layers = append(n.layers, l)
	return len(n.layers) - 1
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// convBN is Keras's conv2d_bn: Conv2D without bias, BatchNormalization
// without scale, ReLU.
func (n *network) convBN(x, filters, rows, cols, stride int, same bool) int {
	c := n.add(Layer{Kind: Conv, Inputs: []int{x}, Filters: filters, KH: rows, KW: cols, Stride: stride, Same: same}, "conv2d")
	b := n.add(Layer{Kind: BatchNorm, Inputs: []int{c}}, "batch_normalization")
	return n.add(Layer{Kind: ReLU, Inputs: []int{b}}, "activation")
}

func (n *network) conv(x, filters, rows, cols int) int {
	return n.convBN(x, filters, rows, cols, 1, true)
}

func (n *network) maxPool(x int) int {
	return n.add(Layer{Kind: MaxPool, Inputs: []int{x}, KH: 3, KW: 3, Stride: 2}, "max_pooling2d")
}

func (n *network) avgPool(x int) int {
	return n.add(Layer{Kind: AvgPool, Inputs: []int{x}, KH: 3, KW: 3, Stride: 1, Same: true}, "average_pooling2d")
}

func (n *network) concat(name string, xs ...int) int {
	return n.add(Layer{Name: name, Kind: Concat, Inputs: xs}, "concatenate")
}

// Layers returns InceptionV3's layers in the order keras/applications/
// inception_v3.py creates them, ending with global average pooling.
func Layers() []Layer {
	n := &network{count: map[string]int{}}
	x := n.add(Layer{Name: "input_1", Kind: Input}, "")
	x = n.convBN(x, 32, 3, 3, 2, false)
	x = n.convBN(x, 32, 3, 3, 1, false)
	x = n.conv(x, 64, 3, 3)
	x = n.maxPool(x)
	x = n.convBN(x, 80, 1, 1, 1, false)
	x = n.convBN(x, 192, 3, 3, 1, false)
	x = n.maxPool(x)

	// mixed 0, 1, 2: 35 x 35 x 256/288/288
	for i, pool := range []int{32, 64, 64} {
		b1 := n.conv(x, 64, 1, 1)
		b5 := n.conv(x, 48, 1, 1)
		b5 = n.conv(b5, 64, 5, 5)
		b3 := n.conv(x, 64, 1, 1)
		b3 = n.conv(b3, 96, 3, 3)
		b3 = n.conv(b3, 96, 3, 3)
		bp := n.avgPool(x)
		bp = n.conv(bp, pool, 1, 1)
		x = n.concat("mixed"+itoa(i), b1, b5, b3, bp)
	}

	// mixed 3: 17 x 17 x 768
	{
		b3 := n.convBN(x, 384, 3, 3, 2, false)
		bd := n.conv(x, 64, 1, 1)
		bd = n.conv(bd, 96, 3, 3)
		bd = n.convBN(bd, 96, 3, 3, 2, false)
		bp := n.maxPool(x)
		x = n.concat("mixed3", b3, bd, bp)
	}

	// mixed 4, 5, 6, 7: 17 x 17 x 768
	for i, c := range []int{128, 160, 160, 192} {
		b1 := n.conv(x, 192, 1, 1)
		b7 := n.conv(x, c, 1, 1)
		b7 = n.conv(b7, c, 1, 7)
		b7 = n.conv(b7, 192, 7, 1)
		bd := n.conv(x, c, 1, 1)
		bd = n.conv(bd, c, 7, 1)
		bd = n.conv(bd, c, 1, 7)
		bd = n.conv(bd, c, 7, 1)
		bd = n.conv(bd, 192, 1, 7)
		bp := n.avgPool(x)
		bp = n.conv(bp, 192, 1, 1)
		x = n.concat("mixed"+itoa(4+i), b1, b7, bd, bp)
	}

	// mixed 8: 8 x 8 x 1280
	{
		b3 := n.conv(x, 192, 1, 1)
		b3 = n.convBN(b3, 320, 3, 3, 2, false)
		b7 := n.conv(x, 192, 1, 1)
		b7 = n.conv(b7, 192, 1, 7)
		b7 = n.conv(b7, 192, 7, 1)
		b7 = n.convBN(b7, 192, 3, 3, 2, false)
		bp := n.maxPool(x)
		x = n.concat("mixed8", b3, b7, bp)
	}

	// mixed 9, 10: 8 x 8 x 2048
	for i := range 2 {
		b1 := n.conv(x, 320, 1, 1)
		b3 := n.conv(x, 384, 1, 1)
		b31 := n.conv(b3, 384, 1, 3)
		b32 := n.conv(b3, 384, 3, 1)
		b3 = n.concat("mixed9_"+itoa(i), b31, b32)
		bd := n.conv(x, 448, 1, 1)
		bd = n.conv(bd, 384, 3, 3)
		bd1 := n.conv(bd, 384, 1, 3)
		bd2 := n.conv(bd, 384, 3, 1)
		bd = n.concat("", bd1, bd2)
		bp := n.avgPool(x)
		bp = n.conv(bp, 192, 1, 1)
		x = n.concat("mixed"+itoa(9+i), b1, b3, bd, bp)
	}
	n.add(Layer{Name: "avg_pool", Kind: GlobalAvgPool, Inputs: []int{x}}, "")
	return n.layers
}

// Channels returns the number of channels each layer outputs.
func Channels(layers []Layer) []int {
	ch := make([]int, len(layers))
	for i, l := range layers {
		switch l.Kind {
		case Input:
			ch[i] = 3
		case Conv:
			ch[i] = l.Filters
		case Concat:
			for _, in := range l.Inputs {
				ch[i] += ch[in]
			}
		default:
			ch[i] = ch[l.Inputs[0]]
		}
	}
	return ch
}

// KerasOrder returns the indices of layers in the order of Keras's
// model.layers, which is the order Keras weight files store layers in.
//
// Keras (Network._init_graph_network / functional._map_graph_network)
// walks the graph depth-first from the output, numbering layers as it first
// meets them, gives every layer its longest distance from the output, and
// lists layers by decreasing distance, breaking ties by that numbering.
func KerasOrder(layers []Layer) []int {
	out := len(layers) - 1
	index := make([]int, len(layers))
	for i := range index {
		index[i] = -1
	}
	next := 0
	done := make([]bool, len(layers))
	var post []int
	var visit func(int)
	visit = func(l int) {
		if done[l] {
			return
		}
		if index[l] < 0 {
			index[l] = next
			next++
		}
		for _, in := range layers[l].Inputs {
			visit(in)
		}
		done[l] = true
		post = append(post, l)
	}
	visit(out)

	depth := make([]int, len(layers))
	for i := len(post) - 1; i >= 0; i-- {
		l := post[i]
		for _, in := range layers[l].Inputs {
			depth[in] = max(depth[in], depth[l]+1)
		}
	}
	order := append([]int(nil), post...)
	// A stable insertion sort keeps this free of sort-package subtleties;
	// 300 layers sort instantly.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && less(order[j], order[j-1], depth, index); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return order
}

func less(a, b int, depth, index []int) bool {
	if depth[a] != depth[b] {
		return depth[a] > depth[b]
	}
	return index[a] < index[b]
}
