package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * An entry of {@code added_tokens} in {@code tokenizer.json}: a string matched in the input before the model
 * runs, with Hugging Face's flags.
 *
 * @param id         token id
 * @param content    the string matched in text
 * @param special    skipped by {@code decode(skipSpecialTokens=true)}; in {@code encode(List<Segment>)} only
 *                   recognised in markup segments
 * @param singleWord only matched when not touching word characters on either side
 * @param lstrip     also swallows whitespace on its left
 * @param rstrip     also swallows whitespace on its right
 * @param normalized matched in normalised text (after the normalizer) rather than in the raw input
 */
record AddedToken(int id, String content, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
                  boolean normalized) {

    static AddedToken fromJson(JsonNode node) {
        boolean special = node.path("special").asBoolean(false);
        return new AddedToken(node.path("id").asInt(), node.path("content").asText(), special,
                node.path("single_word").asBoolean(false), node.path("lstrip").asBoolean(false),
                node.path("rstrip").asBoolean(false), node.path("normalized").asBoolean(!special));
    }
}
