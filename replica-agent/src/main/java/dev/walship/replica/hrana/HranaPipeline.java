package dev.walship.replica.hrana;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Executes one Hrana-over-HTTP pipeline ({@code POST v2/pipeline}, {@code POST v3/pipeline};
 * HRANA_3_SPEC.md, "Execute a pipeline of requests (JSON)") against a read target.
 *
 * <p>Every request in the pipeline runs, in order, even after one fails; a failed request is an
 * error result, never an HTTP error. Thread-safe.
 */
public final class HranaPipeline {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private final HranaStreams streams;

  public HranaPipeline(HranaStreams streams) {
    this.streams = streams;
  }

  /**
   * The response body and the TXID of the data the pipeline read.
   *
   * @param body {@code PipelineRespBody} JSON
   * @param txid TXID of the data the last statement read (the target's TXID if none ran)
   */
  public record Outcome(ObjectNode body, long txid) {}

  /**
   * Runs a pipeline.
   *
   * @param body the parsed {@code PipelineReqBody}
   * @throws IllegalArgumentException if the body is not a pipeline request (HTTP 400)
   * @throws HranaStreams.StreamNotFoundException if the baton names no live stream (HTTP 400)
   */
  public Outcome run(ReadTarget target, JsonNode body) {
    if (body == null || !body.isObject() || !body.path("requests").isArray()) {
      throw new IllegalArgumentException("the body must be a JSON object with a requests array");
    }
    JsonNode batonNode = body.get("baton");
    String baton = batonNode == null || batonNode.isNull() ? null : batonNode.asText();
    HranaStream stream = streams.take(baton, target);
    stream.beginRequest();
    ResponseBudget budget = new ResponseBudget(streams.limits().maxResponseBytes());
    ArrayNode results = JSON.arrayNode();
    try {
      for (JsonNode request : body.get("requests")) {
        results.add(stream.handle(request, budget));
      }
    } catch (RuntimeException e) {
      stream.close();
      throw e;
    }
    ObjectNode out = JSON.objectNode();
    String next = streams.park(stream);
    out.put("baton", next);
    out.putNull("base_url");
    out.set("results", results);
    return new Outcome(out, stream.lastTxid());
  }
}
