package io.streamflow.samples;

import io.streamflow.reactive.StreamRecord;
import io.streamflow.samples.UserSessions.Session;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class UserSessionsTest {

    /** 2023-11-14T22:15:00Z. */
    private static final long T0 = UserSessions.START_MILLIS;
    private static final long MINUTE = 60_000;

    private static StreamRecord<String, String> click(String user, long ts) {
        return StreamRecord.of(user, "/", ts);
    }

    private static List<Session> run(Flux<StreamRecord<String, String>> clicks) {
        List<Session> out = new ArrayList<>(UserSessions.pipeline(clicks).values().collectList().block());
        out.sort(Comparator.comparing(Session::user).thenComparingLong(Session::start));
        return out;
    }

    @Test
    void clicks_at_most_five_minutes_apart_form_one_session_that_ends_five_minutes_after_the_last() {
        List<Session> out = run(Flux.just(
                click("ann", T0),
                click("ann", T0 + 3 * MINUTE),
                click("ann", T0 + 7 * MINUTE),
                click("ann", T0 + 20 * MINUTE)));

        assertThat(out).containsExactly(
                new Session("ann", T0, T0 + 12 * MINUTE, 3),
                new Session("ann", T0 + 20 * MINUTE, T0 + 25 * MINUTE, 1));
        assertThat(out.get(0).lastClick()).isEqualTo(T0 + 7 * MINUTE);
    }

    @Test
    void clicks_exactly_five_minutes_apart_share_a_session_and_one_millisecond_more_splits_it() {
        List<Session> out = run(Flux.just(
                click("bob", T0),
                click("cid", T0),
                click("bob", T0 + 5 * MINUTE),
                click("cid", T0 + 5 * MINUTE + 1)));

        assertThat(out).containsExactly(
                new Session("bob", T0, T0 + 10 * MINUTE, 2),
                new Session("cid", T0, T0 + 5 * MINUTE, 1),
                new Session("cid", T0 + 5 * MINUTE + 1, T0 + 10 * MINUTE + 1, 1));
    }

    @Test
    void an_out_of_order_click_between_two_sessions_merges_them_into_one() {
        // after the click at 5:30 the watermark is 4:29.999, so the session [0:00, 0:05) is still open
        List<Session> out = run(Flux.just(
                click("dan", T0),
                click("dan", T0 + 5 * MINUTE + 30_000),
                click("dan", T0 + 3 * MINUTE)));

        assertThat(out).containsExactly(new Session("dan", T0, T0 + 10 * MINUTE + 30_000, 3));
    }

    @Test
    void sessions_of_different_users_are_independent() {
        List<Session> out = run(Flux.just(
                click("ann", T0),
                click("bob", T0 + 2 * MINUTE),
                click("ann", T0 + 4 * MINUTE),
                click("bob", T0 + 8 * MINUTE)));

        assertThat(out).containsExactly(
                new Session("ann", T0, T0 + 9 * MINUTE, 2),
                new Session("bob", T0 + 2 * MINUTE, T0 + 7 * MINUTE, 1),
                new Session("bob", T0 + 8 * MINUTE, T0 + 13 * MINUTE, 1));
    }

    @Test
    void prints_user_session_bounds_clicks_and_last_click() {
        assertThat(new Session("ann", T0, T0 + 12 * MINUTE, 3).toString()).isEqualTo(
                "ann     session [2023-11-14T22:15:00Z, 2023-11-14T22:27:00Z) clicks=3 last=2023-11-14T22:22:00Z");
    }
}
