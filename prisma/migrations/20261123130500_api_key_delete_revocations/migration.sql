-- Durable revocation backstop for keys that disappear without passing through the key service's revoke path
-- (a project deletion cascades to its keys): every deleted api_keys row is recorded in key_revocations in the
-- same transaction, so every gateway replica's poll evicts it from its caches once the deletion commits.
CREATE FUNCTION "conifer_api_key_deleted"() RETURNS trigger AS $$
BEGIN
    INSERT INTO "key_revocations" ("key_id") VALUES (OLD."key_id");
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "api_keys_record_deletion"
    AFTER DELETE ON "api_keys"
    FOR EACH ROW EXECUTE FUNCTION "conifer_api_key_deleted"();
