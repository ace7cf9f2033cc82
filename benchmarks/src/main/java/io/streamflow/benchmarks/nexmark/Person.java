package io.streamflow.benchmarks.nexmark;

/**
 * A person registering with the auction site (1 event in 50).
 *
 * @param id           person id, from {@link NexmarkGenerator#FIRST_PERSON_ID} on, in event order
 * @param name         first and last name
 * @param emailAddress a made-up address
 * @param creditCard   16 digits in four groups
 * @param city         a US city
 * @param state        a US state code
 * @param dateTime     event time (epoch millis)
 */
public record Person(long id, String name, String emailAddress, String creditCard, String city, String state,
                     long dateTime) implements NexmarkEvent {
}
