from vtm.cli.entry import main

main()
