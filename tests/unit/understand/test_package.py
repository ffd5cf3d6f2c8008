import subprocess
import sys


def test_importing_the_package_does_not_load_sklearn_or_jieba():
    code = "import sys, understand; print('sklearn' in sys.modules, 'jieba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_public_api_resolves():
    import understand

    for name in understand.__all__:
        assert callable(getattr(understand, name))
