"""`th`: placeholder until the shell lands."""


def main(argv=None) -> int:
    print("th: not yet")
    return 0
