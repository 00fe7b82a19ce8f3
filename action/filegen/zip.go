package filegen

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// zipWriter writes a ZIP archive, encrypting entries with the traditional
// PKWARE scheme ("ZipCrypto", APPNOTE.TXT section 6.1) when a password is
// set. ZipCrypto is what Mechanic documents for the zip generator's
// password and what every unzip tool opens; it is weak protection.
type zipWriter struct {
	zw       *zip.Writer
	password []byte
	modified time.Time
}

func newZipWriter(w io.Writer, password string) *zipWriter {
	return &zipWriter{zw: zip.NewWriter(w), password: []byte(password), modified: time.Now()}
}

func (z *zipWriter) add(name string, data []byte) error {
	if len(z.password) == 0 {
		w, err := z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: z.modified})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.DefaultCompression)
	if err != nil {
		return err
	}
	if _, err := fw.Write(data); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	crc := crc32.ChecksumIEEE(data)
	enc, err := zipCryptoEncrypt(z.password, crc, comp.Bytes())
	if err != nil {
		return err
	}
	fh := &zip.FileHeader{
		Name:               name,
		Method:             zip.Deflate,
		Flags:              0x1, // encrypted
		Modified:           z.modified,
		CRC32:              crc,
		CompressedSize64:   uint64(len(enc)),
		UncompressedSize64: uint64(len(data)),
	}
	w, err := z.zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	_, err = w.Write(enc)
	return err
}

func (z *zipWriter) close() error { return z.zw.Close() }

// zipKeys is the ZipCrypto cipher state.
type zipKeys [3]uint32

var crcTable = crc32.MakeTable(crc32.IEEE)

func crcByte(crc uint32, b byte) uint32 {
	return crcTable[byte(crc)^b] ^ (crc >> 8)
}

func newZipKeys(password []byte) *zipKeys {
	k := &zipKeys{0x12345678, 0x23456789, 0x34567890}
	for _, b := range password {
		k.update(b)
	}
	return k
}

func (k *zipKeys) update(b byte) {
	k[0] = crcByte(k[0], b)
	k[1] = (k[1]+k[0]&0xff)*134775813 + 1
	k[2] = crcByte(k[2], byte(k[1]>>24))
}

func (k *zipKeys) stream() byte {
	t := k[2] | 2
	return byte((t * (t ^ 1)) >> 8)
}

func (k *zipKeys) encrypt(b byte) byte {
	c := b ^ k.stream()
	k.update(b)
	return c
}

// zipCryptoEncrypt returns the 12-byte encryption header (random bytes
// ending with the CRC's high byte, the password check) followed by data,
// all encrypted.
func zipCryptoEncrypt(password []byte, crc uint32, data []byte) ([]byte, error) {
	out := make([]byte, 12+len(data))
	if _, err := rand.Read(out[:11]); err != nil {
		return nil, fmt.Errorf("random encryption header: %w", err)
	}
	out[11] = byte(crc >> 24)
	copy(out[12:], data)
	k := newZipKeys(password)
	for i := range out {
		out[i] = k.encrypt(out[i])
	}
	return out, nil
}
