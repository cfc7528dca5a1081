-- The provider's blog: posts with categories and tags, comments held for moderation, security advisories
-- (with their audience and who dismissed the banner), and giveaways with a committed seed.
CREATE TABLE posts (
    id {id},
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category TEXT NOT NULL,
    author_staff_id BIGINT NOT NULL REFERENCES staff_users(id),
    author_name TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX posts_published ON posts (published_at);

CREATE TABLE post_tags (
    post_id BIGINT NOT NULL REFERENCES posts(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (post_id, tag)
);
CREATE INDEX post_tags_tag ON post_tags (tag);

CREATE TABLE comments (
    id {id},
    post_id BIGINT NOT NULL REFERENCES posts(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_norm TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_post ON comments (post_id, created_at);

CREATE TABLE advisories (
    id {id},
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    severity TEXT NOT NULL,
    tariffs TEXT NOT NULL,
    post_id BIGINT REFERENCES posts(id),
    published_at BIGINT NOT NULL
);

CREATE TABLE advisory_dismissals (
    advisory_id BIGINT NOT NULL REFERENCES advisories(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    at BIGINT NOT NULL,
    PRIMARY KEY (advisory_id, customer_id)
);

CREATE TABLE giveaways (
    id {id},
    post_id BIGINT NOT NULL UNIQUE REFERENCES posts(id),
    prize TEXT NOT NULL,
    winners BIGINT NOT NULL,
    closes_at BIGINT NOT NULL,
    exclusions TEXT NOT NULL,
    seed_hex TEXT NOT NULL,
    commitment TEXT NOT NULL,
    result_json TEXT,
    drawn_at BIGINT,
    created_at BIGINT NOT NULL
);
