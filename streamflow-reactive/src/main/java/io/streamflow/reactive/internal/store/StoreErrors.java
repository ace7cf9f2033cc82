package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCorruptedException;
import io.streamflow.reactive.state.StateIncompatibleException;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStoreException;

/**
 * MVStore wraps a failure to read a page into an {@link MVStoreException} ("Unable to read the
 * page ..."); this turns it back into ours, so callers see one exception type per problem: a
 * damaged page or a failed page check is a {@link StateCorruptedException}, state this build
 * cannot read a {@link StateIncompatibleException}.
 */
final class StoreErrors {

    private StoreErrors() {
    }

    static RuntimeException translate(MVStoreException e, String mapName) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof StateCorruptedException) {
                return new StateCorruptedException(t.getMessage(), e);
            }
            if (t instanceof StateIncompatibleException) {
                return new StateIncompatibleException(t.getMessage(), e);
            }
        }
        if (e.getErrorCode() == DataUtils.ERROR_FILE_CORRUPT) {
            return new StateCorruptedException("State map '" + mapName + "' cannot be read, the state file is "
                    + "corrupted: " + e.getMessage(), e);
        }
        return e;
    }
}
