package io.streamflow.reactive.join;

import io.streamflow.reactive.StreamElement;

/** An element of one input of a two-input operator ({@code left}: input 0). */
record Side(boolean left, StreamElement<?, ?> element) {
}
