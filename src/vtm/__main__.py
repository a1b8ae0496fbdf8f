from vtm.cli.app import main

main()
