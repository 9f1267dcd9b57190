// Stands in for `@smithy/core/event-streams` in the deployment functions' bundles (the alias is in scripts/lib/bundle.ts,
// DEPLOYMENT_ALIASES). Event streams serve operations such as Lambda's InvokeWithResponseStream, which no deployment
// function calls, yet the Lambda and S3 clients load their codec at construction: about 7 KB of each zip. Calling such
// an operation from a bundle fails with the message below, never silently.
const REFUSAL =
  'event streams are left out of the deployment function bundles (scripts/lib/bundle.ts, DEPLOYMENT_ALIASES): remove the @smithy/core/event-streams alias to call a streaming operation';

const refuse = (): never => {
  throw new Error(REFUSAL);
};

/** The marshaller a client is given at construction: any use of it fails, naming the alias. */
export const eventStreamSerdeProvider = () => ({ serialize: refuse, deserialize: refuse });

/** As the SDK's: the client's `eventStreamMarshaller` comes from its provider. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (input: T) => unknown }>(input: T) =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

/** What a protocol loads for an operation with an event stream: refused. */
export class EventStreamSerde {
  constructor() {
    refuse();
  }
}
