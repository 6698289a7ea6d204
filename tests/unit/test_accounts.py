import workflows.accounts
from workflows.accounts import check_password, hash_password


def test_passwords_are_salted_scrypt_hashes_that_check(monkeypatch):
    monkeypatch.setattr(workflows.accounts, "_N", 2 ** 14)   # the suite makes it cheaper elsewhere
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second                      # salted
    assert first.startswith("scrypt$16384$8$1$")  # the real cost outside tests
    assert check_password(first, "s3cret") and check_password(second, "s3cret")
    assert not check_password(first, "S3cret")
    assert not check_password("garbage", "s3cret")
