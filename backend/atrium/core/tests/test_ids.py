from atrium.core.ids import uuid7


def test_uuid7_is_version_7_and_time_ordered():
    ids = [uuid7() for _ in range(200)]
    assert all(u.version == 7 for u in ids)
    prefixes = [u.int >> 80 for u in ids]
    assert prefixes == sorted(prefixes)
    assert len(set(ids)) == 200
