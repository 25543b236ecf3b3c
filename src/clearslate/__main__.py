from clearslate.cli import main

main()
