package hdf5

import (
	"encoding/binary"
	"fmt"
)

// Object header message types.
const (
	msgNil          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillOld      = 0x04
	msgFill         = 0x05
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgGroupInfo    = 0x0a
	msgFilters      = 0x0b
	msgAttribute    = 0x0c
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// Message flags.
const (
	msgFlagShared          = 0x02
	msgFlagFailIfUnknownRW = 0x80 // fail to open if the message is not understood
)

// Limits on one object header.
const (
	maxHeaderChunks   = 4096
	maxHeaderMessages = 1 << 16
	maxHeaderBytes    = 16 << 20
)

type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

type objectHeader struct {
	addr uint64
	msgs []message
}

func (oh *objectHeader) find(typ uint16) *message {
	for i := range oh.msgs {
		if oh.msgs[i].typ == typ {
			return &oh.msgs[i]
		}
	}
	return nil
}

func (oh *objectHeader) isGroup() bool {
	return oh.find(msgSymbolTable) != nil || oh.find(msgLinkInfo) != nil ||
		oh.find(msgGroupInfo) != nil || oh.find(msgLink) != nil
}

func (oh *objectHeader) isDataset() bool { return oh.find(msgLayout) != nil }

// knownMessage reports whether this package understands or may safely
// ignore a message type.
func knownMessage(t uint16) bool { return t <= 0x18 }

// readObjectHeader reads the object header at addr, following its
// continuation blocks.
func (f *File) readObjectHeader(addr uint64) (*objectHeader, error) {
	prefix, err := f.readUpTo(addr, 4, "object header")
	if err != nil {
		return nil, err
	}
	oh := &objectHeader{addr: addr}
	type chunk struct{ addr, size uint64 }
	var conts []chunk
	seen := newVisited("object header continuation block", maxHeaderChunks)
	total := uint64(0)
	// readBlock reads one block of the header (version 1's chunks or
	// version 2's continuation blocks), refusing loops and headers over
	// the size budget.
	readBlock := func(c chunk, what string) ([]byte, error) {
		if err := seen.visit(c.addr); err != nil {
			return nil, err
		}
		if total += c.size; total > maxHeaderBytes {
			return nil, fmt.Errorf("object header at %#x is larger than %d bytes", addr, maxHeaderBytes)
		}
		return f.readMeta(c.addr, c.size, what)
	}
	addMsg := func(m message) error {
		if len(oh.msgs) >= maxHeaderMessages {
			return fmt.Errorf("object header at %#x has more than %d messages", addr, maxHeaderMessages)
		}
		if m.flags&msgFlagFailIfUnknownRW != 0 && !knownMessage(m.typ) {
			return unsupported("object header message type %#x", m.typ)
		}
		if m.typ == msgContinuation {
			d := f.decoder(m.data)
			c := chunk{d.addr(), d.length()}
			if d.err != nil {
				return fmt.Errorf("object header at %#x: continuation message: %w", addr, d.err)
			}
			conts = append(conts, c)
			return nil
		}
		oh.msgs = append(oh.msgs, m)
		return nil
	}
	if string(prefix) == "OHDR" {
		// Version 2: "OHDR", version, flags, [times], [attribute phase
		// change], size of chunk 0, messages, checksum.
		head, err := f.readUpTo(addr, 4+1+1+16+4+8, "object header")
		if err != nil {
			return nil, err
		}
		d := f.decoder(head)
		d.skip(4)
		if v := d.u8(); v != 2 {
			return nil, unsupported("object header version %d", v)
		}
		flags := d.u8()
		if flags&0x20 != 0 {
			d.skip(16)
		}
		if flags&0x10 != 0 {
			d.skip(4)
		}
		size := d.uvar(1 << (flags & 3))
		if d.err != nil {
			return nil, fmt.Errorf("object header at %#x: %w", addr, d.err)
		}
		if size > maxHeaderBytes {
			return nil, fmt.Errorf("object header at %#x: chunk of %d bytes is larger than the limit", addr, size)
		}
		hlen := uint64(d.p)
		b, err := f.readMeta(addr, hlen+size+4, "object header")
		if err != nil {
			return nil, err
		}
		if err := checkSum(b, "object header", addr); err != nil {
			return nil, err
		}
		total = size
		order := flags&0x04 != 0
		if err := parseV2Messages(b[hlen:hlen+size], order, addMsg); err != nil {
			return nil, err
		}
		for i := 0; i < len(conts); i++ {
			c := conts[i]
			b, err := readBlock(c, "object header continuation block")
			if err != nil {
				return nil, err
			}
			if len(b) < 8 || string(b[:4]) != "OCHK" {
				return nil, fmt.Errorf("object header continuation block at %#x: bad signature", c.addr)
			}
			if err := checkSum(b, "object header continuation block", c.addr); err != nil {
				return nil, err
			}
			if err := parseV2Messages(b[4:len(b)-4], order, addMsg); err != nil {
				return nil, err
			}
		}
		return oh, nil
	}
	// Version 1: version, reserved, number of messages, reference count,
	// size of chunk 0, padding to 16 bytes, then 8-byte aligned messages.
	head, err := f.readUpTo(addr, 16, "object header")
	if err != nil {
		return nil, err
	}
	d := f.decoder(head)
	if v := d.u8(); v != 1 {
		return nil, fmt.Errorf("object header at %#x: unknown version %d", addr, v)
	}
	d.skip(1 + 2 + 4)
	size := uint64(d.u32())
	if d.err != nil || len(head) < 16 {
		return nil, fmt.Errorf("object header at %#x: %w", addr, errTruncated)
	}
	conts = append(conts, chunk{addr + 16, size})
	for i := 0; i < len(conts); i++ {
		b, err := readBlock(conts[i], "object header")
		if err != nil {
			return nil, err
		}
		for len(b) >= 8 {
			typ := binary.LittleEndian.Uint16(b)
			n := int(binary.LittleEndian.Uint16(b[2:]))
			flags := b[4]
			if n > len(b)-8 {
				return nil, fmt.Errorf("object header at %#x: message of type %#x runs past its chunk", addr, typ)
			}
			if err := addMsg(message{typ: typ, flags: flags, data: b[8 : 8+n : 8+n]}); err != nil {
				return nil, err
			}
			b = b[8+n:]
		}
	}
	return oh, nil
}

func parseV2Messages(b []byte, order bool, add func(message) error) error {
	hdr := 4
	if order {
		hdr = 6
	}
	// A gap shorter than a message header may end the chunk.
	for len(b) >= hdr {
		typ := uint16(b[0])
		n := int(binary.LittleEndian.Uint16(b[1:]))
		flags := b[3]
		if n > len(b)-hdr {
			return fmt.Errorf("message of type %#x runs past its object header chunk", typ)
		}
		if err := add(message{typ: typ, flags: flags, data: b[hdr : hdr+n : hdr+n]}); err != nil {
			return err
		}
		b = b[hdr+n:]
	}
	return nil
}
