package multiprocessing.internal.util;

import java.util.Arrays;

/**
 * SHA-256 (FIPS 180-4) in plain Java, for the one HMAC of a connection's handshake.
 *
 * <h2>Implementation note</h2>
 * The JDK has SHA-256, behind its security providers: the first {@code Mac} or
 * {@code MessageDigest} of a JVM loads and registers them, and the JCE's policy files besides,
 * 60-75 ms of a fresh process's first handshake (bench/RESULTS.md, fifteenth session), where
 * the hash itself takes microseconds. A manager's server and every process that connects to it
 * are fresh JVMs that make a handful of handshakes, so they hash here. Code that hashes much
 * (the cluster's seals) uses the JDK's, whose compression function is a CPU intrinsic.
 *
 * <p>Nothing here branches on the data or indexes by it, so its time does not depend on the
 * key. Tests compare it with the JDK's on the NIST vectors and on random inputs.
 */
final class Sha256 {
    private Sha256() {}

    static final int BLOCK_BYTES = 64;
    static final int DIGEST_BYTES = 32;

    private static final int[] K = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    };

    private static final int[] INITIAL = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    };

    /** The digest of the concatenation of {@code parts}. */
    static byte[] digest(byte[]... parts) {
        int[] h = INITIAL.clone();
        int[] w = new int[64];
        byte[] block = new byte[BLOCK_BYTES];
        int filled = 0;
        long total = 0;
        for (byte[] part : parts) {
            total += part.length;
            for (byte b : part) {
                block[filled++] = b;
                if (filled == BLOCK_BYTES) {
                    compress(h, w, block);
                    filled = 0;
                }
            }
        }
        // Padding: a one bit, zeros, and the message's length in bits as a big-endian long.
        block[filled++] = (byte) 0x80;
        if (filled > BLOCK_BYTES - Long.BYTES) {
            Arrays.fill(block, filled, BLOCK_BYTES, (byte) 0);
            compress(h, w, block);
            filled = 0;
        }
        Arrays.fill(block, filled, BLOCK_BYTES - Long.BYTES, (byte) 0);
        long bits = total * 8;
        for (int i = 0; i < Long.BYTES; i++) {
            block[BLOCK_BYTES - 1 - i] = (byte) (bits >>> (8 * i));
        }
        compress(h, w, block);
        byte[] out = new byte[DIGEST_BYTES];
        for (int i = 0; i < h.length; i++) {
            out[4 * i] = (byte) (h[i] >>> 24);
            out[4 * i + 1] = (byte) (h[i] >>> 16);
            out[4 * i + 2] = (byte) (h[i] >>> 8);
            out[4 * i + 3] = (byte) h[i];
        }
        return out;
    }

    private static void compress(int[] h, int[] w, byte[] block) {
        for (int t = 0; t < 16; t++) {
            w[t] = (block[4 * t] & 0xff) << 24 | (block[4 * t + 1] & 0xff) << 16
                    | (block[4 * t + 2] & 0xff) << 8 | (block[4 * t + 3] & 0xff);
        }
        for (int t = 16; t < 64; t++) {
            int s0 = Integer.rotateRight(w[t - 15], 7) ^ Integer.rotateRight(w[t - 15], 18)
                    ^ (w[t - 15] >>> 3);
            int s1 = Integer.rotateRight(w[t - 2], 17) ^ Integer.rotateRight(w[t - 2], 19)
                    ^ (w[t - 2] >>> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        int a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (int t = 0; t < 64; t++) {
            int s1 = Integer.rotateRight(e, 6) ^ Integer.rotateRight(e, 11)
                    ^ Integer.rotateRight(e, 25);
            int ch = (e & f) ^ (~e & g);
            int t1 = k + s1 + ch + K[t] + w[t];
            int s0 = Integer.rotateRight(a, 2) ^ Integer.rotateRight(a, 13)
                    ^ Integer.rotateRight(a, 22);
            int maj = (a & b) ^ (a & c) ^ (b & c);
            int t2 = s0 + maj;
            k = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += k;
    }
}
