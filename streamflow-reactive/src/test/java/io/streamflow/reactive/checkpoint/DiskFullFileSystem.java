package io.streamflow.reactive.checkpoint;

import org.h2.store.fs.FileBase;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A file system for the state store (scheme {@code diskfull:}) that behaves like a disk with
 * {@link #budget} bytes left: a write that does not fit fails with "No space left on device", as
 * the operating system's would, and so does {@code force} once the disk has filled.
 */
public final class DiskFullFileSystem extends FilePathWrapper {

    static final String SCHEME = "diskfull";
    /** Bytes that may still be written; {@code Long.MAX_VALUE}: unlimited. */
    static final AtomicLong budget = new AtomicLong(Long.MAX_VALUE);
    static final AtomicLong failures = new AtomicLong();
    /** Bytes written through this file system since the class was loaded (whatever the budget). */
    private static final AtomicLong written = new AtomicLong();

    static void register() {
        FilePath.register(new DiskFullFileSystem());
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        return new Channel(getBase().open(mode));
    }

    private static IOException full() {
        failures.incrementAndGet();
        return new IOException("No space left on device");
    }

    /** @return bytes written through this file system so far (subtract an earlier value for a run's share) */
    static long written() {
        return written.get();
    }

    private static void take(int bytes) throws IOException {
        for (;;) {
            long left = budget.get();
            if (left == Long.MAX_VALUE) {
                return;
            }
            if (left < bytes) {
                budget.set(0);
                throw full();
            }
            if (budget.compareAndSet(left, left - bytes)) {
                return;
            }
        }
    }

    private static final class Channel extends FileBase {
        private final FileChannel base;

        Channel(FileChannel base) {
            this.base = base;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return base.read(dst);
        }

        @Override
        public synchronized int read(ByteBuffer dst, long position) throws IOException {
            return base.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            take(src.remaining());
            int n = base.write(src);
            written.addAndGet(n);
            return n;
        }

        @Override
        public synchronized int write(ByteBuffer src, long position) throws IOException {
            take(src.remaining());
            int n = base.write(src, position);
            written.addAndGet(n);
            return n;
        }

        @Override
        public long position() throws IOException {
            return base.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            base.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            base.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            if (budget.get() == 0) {
                throw full();
            }
            base.force(metaData);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return base.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            base.close();
        }
    }
}
