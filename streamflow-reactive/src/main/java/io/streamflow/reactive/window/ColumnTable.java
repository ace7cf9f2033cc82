package io.streamflow.reactive.window;

/**
 * Open-addressing table from a {@code long} key to a row of {@code width} {@code long} columns,
 * all in one array: a row is the key followed by its columns, so a lookup and the update after it
 * touch one place in memory (linear probing, power-of-two capacity, load factor 3/4, no removal:
 * a table is dropped as a whole when its window is purged).
 * <p>
 * Key {@code 0} marks a free row; the key {@code 0} itself has its own row after the others. A
 * free row's columns are zeros, so a caller may fill the columns of the free row {@link #find}
 * returned and only then {@link #insert} the key (and leave the row free if filling failed).
 */
final class ColumnTable {

    private final int stride;
    private long[] rows;
    private int mask;
    private int size;
    private boolean hasZero;

    /** @param expected number of keys to hold without growing */
    ColumnTable(int width, int expected) {
        this.stride = width + 1;
        int cap = 16;
        while (cap - (cap >> 2) < expected) {
            cap <<= 1;
        }
        alloc(cap);
    }

    private void alloc(int cap) {
        rows = new long[(cap + 1) * stride]; // the last row is key 0's
        mask = cap - 1;
    }

    private static int spread(long key) {
        int h = Long.hashCode(key) * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** @return the array holding the rows; valid until the next {@link #insert} */
    long[] rows() {
        return rows;
    }

    int size() {
        return size;
    }

    /** @return the offset of the key-0 row, after the others */
    private int zeroRow() {
        return (mask + 1) * stride;
    }

    /**
     * @return the offset of {@code key}'s row (its columns start one further), or {@code ~offset}
     * of the free row where it would go
     */
    int find(long key) {
        if (key == 0) {
            return hasZero ? zeroRow() : ~zeroRow();
        }
        long[] r = rows;
        int s = stride;
        int m = mask;
        int i = spread(key) & m;
        for (;;) {
            int o = i * s;
            long k = r[o];
            if (k == key) {
                return o;
            }
            if (k == 0) {
                return ~o;
            }
            i = (i + 1) & m;
        }
    }

    /**
     * Reads the first row {@code key}'s lookup will read, its first and last {@code long} (a row
     * may straddle two cache lines), so that their cache misses start now.
     * @return a sum of what it read, for the caller to keep (or the reads may be optimised away)
     */
    long touch(long key) {
        int o = (spread(key) & mask) * stride;
        return rows[o] + rows[o + stride - 1];
    }

    /**
     * Takes the free row at {@code offset} (from {@link #find} of the same key, with no insert
     * since) for {@code key}, whose columns the caller has filled. May grow the table, which moves
     * the rows.
     */
    void insert(int offset, long key) {
        if (key == 0) {
            hasZero = true;
        } else {
            rows[offset] = key;
        }
        if (++size > (mask + 1) - ((mask + 1) >> 2)) {
            grow();
        }
    }

    /** @return the offset of the first row in use at or after {@code offset}, or {@code -1} */
    int nextRow(int offset) {
        long[] r = rows;
        int s = stride;
        int end = zeroRow();
        for (int o = offset; o < end; o += s) {
            if (r[o] != 0) {
                return o;
            }
        }
        return hasZero && offset <= end ? end : -1;
    }

    /** @return the offset after the row at {@code offset}, for {@link #nextRow} */
    int after(int offset) {
        return offset + stride;
    }

    /** @return the key of the row in use at {@code offset} */
    long keyAt(int offset) {
        return offset == zeroRow() ? 0 : rows[offset];
    }

    private void grow() {
        long[] old = rows;
        int oldZero = zeroRow();
        int s = stride;
        alloc((mask + 1) * 2);
        long[] r = rows;
        int m = mask;
        for (int o = 0; o < oldZero; o += s) {
            long k = old[o];
            if (k != 0) {
                int i = spread(k) & m;
                while (r[i * s] != 0) {
                    i = (i + 1) & m;
                }
                System.arraycopy(old, o, r, i * s, s);
            }
        }
        System.arraycopy(old, oldZero, r, zeroRow(), s);
    }
}
