document.title = document.title + " (scripted)";
